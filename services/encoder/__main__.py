from services.common.server import serve
from services.encoder.app import create_app
from services.encoder.settings import EncoderSettings

serve(create_app, EncoderSettings())
