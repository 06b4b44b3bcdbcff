"""The AWS Lambda entry point: ``quickvault.serverless.handler`` serves the ASGI application.

API Gateway (HTTP API or REST API), an Application Load Balancer or a function URL invokes
``handler(event, context)``; Mangum turns the event into one ASGI request and the response into
the event's answer. Lifespan is off: the application has no startup or shutdown hooks, and Django
sets itself up when ``quickvault.asgi`` is imported, that is during the cold start.
"""

from mangum import Mangum

from quickvault.asgi import application

handler = Mangum(application, lifespan="off")
