"""Policies: data (TOML) loaded into complete rules, and the pure evaluation engine."""

from cryptocheck.policy.engine import UNMATCHED_RULE, Verdict, evaluate, judge
from cryptocheck.policy.loader import DEFAULT_POLICY, PolicyError, load_policy, shipped_policy_ids
from cryptocheck.policy.rules import Policy, Rule
from cryptocheck.policy.waivers import load_waivers

__all__ = [
    "DEFAULT_POLICY", "UNMATCHED_RULE", "Policy", "PolicyError", "Rule", "Verdict", "evaluate",
    "judge", "load_policy", "load_waivers", "shipped_policy_ids",
]
