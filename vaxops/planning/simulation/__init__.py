"""Site-flow simulator: a vaccination site's day as a discrete-event simulation (SimPy).

People arrive (walk-ins, a crowd at the door, booked slots), pass the stages in series
(registration, screening, vaccination, observation) and leave; the simulator reports
throughput, waits, queues, utilisation and observation occupancy with 95 % confidence
intervals over independent replications. Pure Python, no Django: see ``docs/simulation.md``.
"""

from .config import SimulationConfig, Stage, load_config, parse_config
from .errors import SimulationConfigError
from .runner import run_replication, run_replications, simulate
from .timefmt import format_time, parse_time

__all__ = [
    "SimulationConfig",
    "SimulationConfigError",
    "Stage",
    "format_time",
    "load_config",
    "parse_config",
    "parse_time",
    "run_replication",
    "run_replications",
    "simulate",
]
