"""Policies: data (TOML) loaded into complete rules, and the pure evaluation engine."""

from .engine import UNMATCHED_RULE, Verdict, evaluate, judge
from .loader import DEFAULT_POLICY, PolicyError, load_policy, shipped_policy_ids
from .rules import Policy, Rule
from .waivers import load_waivers

__all__ = [
    "DEFAULT_POLICY", "UNMATCHED_RULE", "Policy", "PolicyError", "Rule", "Verdict", "evaluate",
    "judge", "load_policy", "load_waivers", "shipped_policy_ids",
]
