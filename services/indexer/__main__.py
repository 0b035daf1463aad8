from services.common.server import serve
from services.indexer.app import create_app
from services.indexer.settings import IndexerSettings

serve(create_app, IndexerSettings())
