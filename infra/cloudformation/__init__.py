"""CloudFormation: template.yaml read and translated as `sam deploy` would, then provisioned locally."""
