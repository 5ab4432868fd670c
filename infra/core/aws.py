"""What every part of the local cloud shares about AWS: the region, the account and the local endpoints."""

from __future__ import annotations

from dataclasses import dataclass

REGION = "us-east-1"
ACCOUNT_ID = "123456789012"  # moto's default account: ARNs it issues use it too


@dataclass(frozen=True)
class Endpoints:
    """Where each local service listens (all on loopback)."""

    dynamodb: str  # e.g. http://127.0.0.1:8000 (DynamoDB Local, or moto when Java is missing)
    moto: str  # moto server: S3, SQS, EventBridge, SNS, Cognito, STS, ...
    lambda_api: str  # our Lambda Invoke API
    api: str  # the HTTP API gateway
    region: str = REGION

    def aws_environment(self) -> dict[str, str]:
        """The AWS_* variables that point any AWS SDK or the AWS CLI at the local services.

        botocore reads AWS_ENDPOINT_URL_<SERVICE> (service id upper-cased, spaces to underscores) before
        AWS_ENDPOINT_URL, so DynamoDB and Lambda go to their own servers and everything else to moto.
        """
        return {
            "AWS_ENDPOINT_URL": self.moto,
            "AWS_ENDPOINT_URL_DYNAMODB": self.dynamodb,
            "AWS_ENDPOINT_URL_DYNAMODB_STREAMS": self.dynamodb,
            "AWS_ENDPOINT_URL_LAMBDA": self.lambda_api,
            "AWS_ENDPOINT_URL_S3": self.moto,
            "AWS_ENDPOINT_URL_SQS": self.moto,
            "AWS_ENDPOINT_URL_SNS": self.moto,
            "AWS_ENDPOINT_URL_EVENTBRIDGE": self.moto,
            "AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER": self.moto,
            "AWS_ENDPOINT_URL_SFN": self.moto,
            "AWS_ENDPOINT_URL_STS": self.moto,
            "AWS_ENDPOINT_URL_SES": self.moto,
            "AWS_ENDPOINT_URL_SSM": self.moto,
            "AWS_ENDPOINT_URL_SECRETS_MANAGER": self.moto,
            "AWS_REGION": self.region,
            "AWS_DEFAULT_REGION": self.region,
            "AWS_ACCESS_KEY_ID": "local",
            "AWS_SECRET_ACCESS_KEY": "local",
        }
