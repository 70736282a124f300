"""The service's tag rules, checked by CreateComponentVersion, CreateDeployment and TagResource.

Evidence [medium]: the AWS tagging documentation (at most 50 user tags per resource, keys of
1 to 128 characters, values of 0 to 256, the ``aws:`` prefix reserved for AWS) and the
CloudFormation resource schema of ``AWS::GreengrassV2::ComponentVersion``
(``aws-greengrassv2-componentversion/aws-greengrassv2-componentversion.json`` in
github.com/aws-cloudformation/aws-cloudformation-resource-providers-greengrassv2: ``Tags``
has ``maxProperties: 50``, keys ``^(?!aws:)...{1,128}$``, values ``maxLength: 256``).
The botocore model's ``TagMap`` allows 200 entries per request; the stricter limit of 50
per resource is the one modelled. Key and value lengths are in the botocore model too, so
over HTTP the model check answers first (same code, ValidationException 400); they are
checked here again so that the backend holds them without the HTTP layer.
"""

from __future__ import annotations

from .exceptions import ValidationException

MAX_TAGS_PER_RESOURCE = 50
MAX_KEY_LENGTH = 128
MAX_VALUE_LENGTH = 256
RESERVED_PREFIX = "aws:"


def check_tags(tags: dict[str, str] | None, existing: dict[str, str] | None = None) -> None:
    """Refuse ``tags`` if any breaks a rule, or if the resource would end with more than 50.

    ``existing`` are the tags already on the resource (TagResource): a key given again
    replaces its value and does not count twice.
    """
    given = tags or {}
    for key, value in given.items():
        _check_tag(key, value)
    total = len(set(existing or {}) | set(given))
    if total > MAX_TAGS_PER_RESOURCE:
        raise ValidationException(
            f"Invalid Input: a resource can have at most {MAX_TAGS_PER_RESOURCE} tags; "
            f"this request would give it {total}",
            reason="OTHER",
        )


def _check_tag(key: str, value: str) -> None:
    if not 1 <= len(key) <= MAX_KEY_LENGTH:
        raise ValidationException(
            f"Invalid Input: tag key must be 1 to {MAX_KEY_LENGTH} characters, got {len(key)}",
            reason="OTHER",
        )
    if len(value) > MAX_VALUE_LENGTH:
        raise ValidationException(
            f"Invalid Input: the value of tag {key} must be at most {MAX_VALUE_LENGTH} "
            f"characters, got {len(value)}",
            reason="OTHER",
        )
    if key.lower().startswith(RESERVED_PREFIX):
        raise ValidationException(
            f"Invalid Input: tag key {key} uses the reserved prefix {RESERVED_PREFIX}",
            reason="OTHER",
        )
