"""CrossGuard entry point: ``pulumi preview --policy-pack policy`` runs this folder.

The checks are plain functions in paragon_policies.py; paragon_pack.py turns them into policies.
"""

from paragon_pack import PACK_NAME, build_policies
from pulumi_policy import PolicyPack

PolicyPack(name=PACK_NAME, policies=build_policies())
