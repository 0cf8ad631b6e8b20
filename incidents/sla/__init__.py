"""SLA and OLA clocks on incidents.

- `policies`: matching an incident to the policy versions valid at an instant, and saving or
  re-applying a policy.
- `engine`: the clocks as a pure state machine over *facts* (created, state changed, priority
  changed, owner changed …). The same machine keeps the stored clocks up to date, one event at
  a time, and replays an incident's timeline from scratch (`replay`), so both always agree.
- `services`: the stored clocks: the event subscriber's work, the beat sweep that warns and
  flags breaches, and `check_slas --verify/--repair`.
"""
