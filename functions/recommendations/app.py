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
from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Header, Path
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


ETAG = {"ETag": "A digest of the answer, for If-None-Match"}


def _cached(answer: HomeRecommendations | RelatedItems, if_none_match: str | None, *, private: bool) -> Response[Any]:
    # Short-lived: the answer follows stock and new listings within seconds; the ETag makes revalidation cheap.
    cache = f"{'private' if private else 'public'}, max-age=30"
    return http.conditional(answer, if_none_match, headers={"Cache-Control": cache})


@app.get("/recommendations/home", summary="Home page recommendations: the visitor's own, else trending",
         tags=["recommendations"],
         responses={**http.documented_responses(200, "Recommendations and new arrivals", [422], headers=ETAG),
                    304: http.NOT_MODIFIED})  # fmt: skip
def home(if_none_match: IfNoneMatch = None, visitor_id: VisitorId = None) -> Response[HomeRecommendations]:
    return _cached(recommendations.home(http.visitor(app)), if_none_match, private=visitor_id is not None)


@app.get("/me/recommendations", summary="The signed-in buyer's home page recommendations, else trending",
         tags=["recommendations"], security=http.BEARER_AUTH,
         responses={**http.documented_responses(200, "Recommendations and new arrivals", [401, 422], headers=ETAG),
                    304: http.NOT_MODIFIED})  # fmt: skip
def my_home(if_none_match: IfNoneMatch = None) -> Response[HomeRecommendations]:
    caller = http.authenticated_caller(app)
    return _cached(recommendations.home(caller.user_id), if_none_match, private=True)


@app.get("/items/<itemId>/related", summary="Items related to one: bought together, viewed together, same category",
         tags=["recommendations"],
         responses={**http.documented_responses(200, "Related items", [422], headers=ETAG),
                    304: http.NOT_MODIFIED})  # fmt: skip
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
