"""One router per resource. Each module has ``router`` (an `APIRouter`) and ``TAG`` (its OpenAPI tag:
name and description); `api.app.create_app` includes them in `ROUTERS` order."""
