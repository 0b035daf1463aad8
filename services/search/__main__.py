from services.common.server import serve
from services.search.app import create_app
from services.search.settings import SearchSettings

serve(create_app, SearchSettings())
