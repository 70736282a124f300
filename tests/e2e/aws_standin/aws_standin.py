"""A stand-in for the ``pulumi-resource-aws`` plugin, for the device-output test only.

The real plugin is a Go binary that no package registry reachable here ships, so the engine is
given this one instead (it is first on ``PATH``; the engine uses an ambient plugin before an
installed one). It speaks the same gRPC provider protocol and makes the device pieces for real
against the local AWS endpoint (``AWS_ENDPOINT_URL``): thing groups, things, memberships and
certificates signed from CSRs (``CreateCertificateFromCsr``), and answers the account and IoT
endpoint lookups from it. Every other pulumi-aws type is echoed (its inputs, a made-up ARN).

What it does not stand in for is what the test is about: which outputs are secret. That is
decided by the pulumi-aws Python SDK (``additional_secret_outputs`` on
``aws.iot.Certificate``) and applied by the engine, both real here, and masked by the real
``pulumi stack output``.
"""

from __future__ import annotations

import asyncio
import sys
from concurrent import futures
from threading import Event
from typing import Any

import boto3
import grpc
from google.protobuf import empty_pb2
from pulumi.runtime import proto, rpc
from pulumi.runtime.proto import provider_pb2_grpc

REGION_KEY = "region"


def _serialize(values: dict[str, Any]) -> Any:
    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(rpc.serialize_properties(values, {}))
    finally:
        loop.close()


class StandIn(provider_pb2_grpc.ResourceProviderServicer):  # type: ignore[misc]
    def __init__(self) -> None:
        self.region = "us-east-1"

    def _client(self, service: str) -> Any:
        return boto3.client(service, region_name=self.region)

    def _account(self) -> str:
        return str(self._client("sts").get_caller_identity()["Account"])

    def GetPluginInfo(self, request: Any, context: Any) -> Any:
        return proto.PluginInfo(version="7.0.0")

    def CheckConfig(self, request: Any, context: Any) -> Any:
        return proto.CheckResponse(inputs=request.news)

    def DiffConfig(self, request: Any, context: Any) -> Any:
        return proto.DiffResponse(changes=proto.DiffResponse.DIFF_NONE)

    def Configure(self, request: Any, context: Any) -> Any:
        region = dict(request.variables).get("aws:config:region")
        args = rpc.deserialize_properties(request.args)
        self.region = args.get(REGION_KEY) or region or self.region
        return proto.ConfigureResponse(acceptSecrets=False, supportsPreview=False)

    def Invoke(self, request: Any, context: Any) -> Any:
        args = rpc.deserialize_properties(request.args)
        if request.tok == "aws:index/getCallerIdentity:getCallerIdentity":
            identity = self._client("sts").get_caller_identity()
            result = {
                "accountId": identity["Account"],
                "arn": identity["Arn"],
                "userId": identity["UserId"],
                "id": identity["Account"],
            }
        elif request.tok == "aws:iot/getEndpoint:getEndpoint":
            kind = args.get("endpointType", "iot:Data-ATS")
            address = self._client("iot").describe_endpoint(endpointType=kind)["endpointAddress"]
            result = {"endpointType": kind, "endpointAddress": address, "id": address}
        else:
            context.abort(grpc.StatusCode.UNIMPLEMENTED, f"stand-in: no function {request.tok}")
        return proto.InvokeResponse(**{"return": _serialize(result)})

    def Check(self, request: Any, context: Any) -> Any:
        return proto.CheckResponse(inputs=request.news)

    def Diff(self, request: Any, context: Any) -> Any:
        olds = rpc.deserialize_properties(request.olds)
        news = rpc.deserialize_properties(request.news)
        changed = [k for k in news if olds.get(k) != news[k]]
        return proto.DiffResponse(
            changes=proto.DiffResponse.DIFF_SOME if changed else proto.DiffResponse.DIFF_NONE,
            replaces=changed,
        )

    def Create(self, request: Any, context: Any) -> Any:
        props = rpc.deserialize_properties(request.properties)
        typ = request.urn.split("::")[2]
        name = request.urn.rsplit("::", 1)[-1]
        iot = self._client("iot")
        arn = f"arn:aws:iot:{self.region}:{self._account()}"
        outs = dict(props)
        if typ == "aws:iot/thingGroup:ThingGroup":
            made = iot.create_thing_group(thingGroupName=props["name"])
            id_, outs["arn"] = props["name"], made["thingGroupArn"]
        elif typ == "aws:iot/thing:Thing":
            made = iot.create_thing(thingName=props["name"])
            id_, outs["arn"] = props["name"], made["thingArn"]
        elif typ == "aws:iot/thingGroupMembership:ThingGroupMembership":
            iot.add_thing_to_thing_group(
                thingGroupName=props["thingGroupName"], thingName=props["thingName"]
            )
            id_ = f"{props['thingGroupName']}/{props['thingName']}"
        elif typ == "aws:iot/certificate:Certificate":
            made = iot.create_certificate_from_csr(
                certificateSigningRequest=props["csr"], setAsActive=bool(props.get("active"))
            )
            id_ = made["certificateId"]
            outs.update(arn=made["certificateArn"], certificatePem=made["certificatePem"])
        else:
            id_ = str(props.get("name") or props.get("alias") or props.get("bucket") or name)
            outs.setdefault("name", id_)
            outs["arn"] = f"{arn}:{typ.split(':')[-1].lower()}/{id_}"
        return proto.CreateResponse(id=id_, properties=_serialize(outs))

    def Read(self, request: Any, context: Any) -> Any:
        return proto.ReadResponse(id=request.id, properties=request.properties)

    def Update(self, request: Any, context: Any) -> Any:
        olds = rpc.deserialize_properties(request.olds)
        news = rpc.deserialize_properties(request.news)
        return proto.UpdateResponse(properties=_serialize({**olds, **news}))

    def Delete(self, request: Any, context: Any) -> Any:
        return empty_pb2.Empty()

    def Cancel(self, request: Any, context: Any) -> Any:
        return empty_pb2.Empty()


def main() -> None:
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    provider_pb2_grpc.add_ResourceProviderServicer_to_server(StandIn(), server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    sys.stdout.write(f"{port}\n")
    sys.stdout.flush()
    Event().wait()


if __name__ == "__main__":
    main()
