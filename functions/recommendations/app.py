"""Recommendations API: the home page's recommendations (anonymous or by visitor id, and the signed-in
buyer's) and the items related to one, with ETags; and, from the recommendation-updates queue, the
near-real-time rows that serving corrects the batch job's lists with (new arrivals, recent purchases).

Answers carry an ETag (a digest of the answer) and honour If-None-Match with 304 Not Modified; they change
when the job's pointer moves, an item is listed, sold out or deactivated, or the caller buys something.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Header, Path
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from shop import http, recommendations
from shop.recommendations import HomeRecommendations, RelatedItems

logger = Logger()
app = http.create_app()
queue_records = BatchProcessor(event_type=EventType.SQS)

IfNoneMatch = Annotated[str | None, Header(alias="If-None-Match", max_length=1024)]
VisitorId = Annotated[
    str | None,
    Header(alias="X-Visitor-Id", pattern=r"^[A-Za-z0-9_-]{8,64}$",
           description="The client's own opaque visitor id (as sent with GET /items and GET /items/{itemId}): "
                       "recommendations for what this visitor did."),
]  # fmt: skip


class NotModified(Exception):
    """The client's copy is current: answered 304 outside the response validation (a 304 has no body)."""

    def __init__(self, etag: str) -> None:
        super().__init__(etag)
        self.etag = etag


def not_modified(error: NotModified) -> Response[None]:
    return Response(status_code=304, headers={"ETag": error.etag})


app.exception_handler_manager.update_exception_handlers({NotModified: not_modified})

NOT_MODIFIED: OpenAPIResponse = {"description": "Unchanged since the ETag named in If-None-Match (no body)"}
ETAG = {"ETag": "A digest of the answer, for If-None-Match"}


def _cached(answer: HomeRecommendations | RelatedItems, if_none_match: str | None, *, private: bool) -> Response[Any]:
    etag = recommendations.etag(answer)
    if recommendations.matches(if_none_match, etag):
        raise NotModified(etag)
    # Short-lived: the answer follows stock and new listings within seconds; the ETag makes revalidation cheap.
    cache = f"{'private' if private else 'public'}, max-age=30"
    return Response(status_code=200, content_type=content_types.APPLICATION_JSON, body=answer,
                    headers={"ETag": etag, "Cache-Control": cache})  # fmt: skip


@app.get("/recommendations/home", summary="Home page recommendations: the visitor's own, else trending",
         tags=["recommendations"],
         responses={**http.documented_responses(200, "Recommendations and new arrivals", [422], headers=ETAG),
                    304: NOT_MODIFIED})  # fmt: skip
def home(if_none_match: IfNoneMatch = None, visitor_id: VisitorId = None) -> Response[HomeRecommendations]:
    return _cached(recommendations.home(http.visitor(app)), if_none_match, private=visitor_id is not None)


@app.get("/me/recommendations", summary="The signed-in buyer's home page recommendations, else trending",
         tags=["recommendations"], security=http.BEARER_AUTH,
         responses={**http.documented_responses(200, "Recommendations and new arrivals", [401, 422], headers=ETAG),
                    304: NOT_MODIFIED})  # fmt: skip
def my_home(if_none_match: IfNoneMatch = None) -> Response[HomeRecommendations]:
    caller = http.authenticated_caller(app)
    return _cached(recommendations.home(caller.user_id), if_none_match, private=True)


@app.get("/items/<itemId>/related", summary="Items related to one: bought together, viewed together, same category",
         tags=["recommendations"],
         responses={**http.documented_responses(200, "Related items", [422], headers=ETAG),
                    304: NOT_MODIFIED})  # fmt: skip
def related(item_id: Annotated[str, Path(alias="itemId", max_length=64)],
            if_none_match: IfNoneMatch = None) -> Response[RelatedItems]:  # fmt: skip
    return _cached(recommendations.related(item_id), if_none_match, private=False)


def _bus_event(record: SQSRecord) -> None:
    # The queue holds EventBridge events as the rule delivers them; their detail is the shop's envelope.
    recommendations.on_event(json.loads(record.body)["detail"])


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    if (event.get("Records") or [{}])[0].get("eventSource") == "aws:sqs":
        return dict(process_partial_response(event, _bus_event, queue_records, context))
    return app.resolve(event, context)
