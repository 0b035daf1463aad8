from gateway.app import create_app
from gateway.settings import GatewaySettings
from services.common.server import serve

serve(create_app, GatewaySettings())
