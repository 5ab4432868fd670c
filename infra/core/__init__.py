"""What every service of the local cloud builds on: AWS constants and endpoints, SDK clients, the local
service processes (DynamoDB Local, moto), the Component protocol and the shared SQS poll loop."""
