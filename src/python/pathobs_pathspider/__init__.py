"""pathobs_pathspider: PATHspider's Observer interface backed by pathobs (docs/pathspider.md)."""

from .chains import CHAIN_CLASSES, ChainMappingError, chain_arguments
from .observer import SHUTDOWN_SENTINEL, Observer, find_pathobs, record_from_json

__all__ = ["Observer", "CHAIN_CLASSES", "ChainMappingError", "chain_arguments",
           "SHUTDOWN_SENTINEL", "find_pathobs", "record_from_json"]
