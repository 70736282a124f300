"""The AWS account the stack's pulumi-aws resources go to.

Without ``roleArn`` that is pulumi-aws's default provider (the deployer's credentials and the
``aws:*`` config). With ``roleArn`` the stack builds one explicit provider that assumes that
role, in the stack's region, so the bucket, thing groups, things, certificates, policies and
roles land in the same account as the component versions and deployments, whose provider
assumes the same role (``role_arn``). An explicit provider does not read the ``aws:*`` stack
config, so the region and ``aws:profile`` are handed to it here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws


@dataclass(frozen=True)
class StackAccount:
    """Options that place a pulumi-aws resource or lookup in the stack's account."""

    provider: aws.Provider | None = None

    def resource_options(
        self, depends_on: Sequence[pulumi.Resource] = ()
    ) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions(provider=self.provider, depends_on=list(depends_on) or None)

    def invoke_options(self) -> pulumi.InvokeOptions:
        return pulumi.InvokeOptions(provider=self.provider)


def stack_account(role_arn: str | None, region: str, profile: str | None) -> StackAccount:
    """The default provider, or one that assumes ``role_arn`` (session named after the stack)."""
    if role_arn is None:
        return StackAccount()
    session = f"pulumi-dda-{pulumi.get_project()}-{pulumi.get_stack()}"[:64]
    provider = aws.Provider(
        "stack-account",
        region=region,
        profile=profile,
        assume_roles=[aws.ProviderAssumeRoleArgs(role_arn=role_arn, session_name=session)],
    )
    return StackAccount(provider)
