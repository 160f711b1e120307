"""Chain mapping: PATHspider chain classes, and Lua chain files, to pathobs -c arguments."""

import os
import sys

# PATHspider's bundled chain classes and the bundled Lua chain that records
# the same fields (docs/chains.md).
CHAIN_CLASSES = {
    "BasicChain": "basic",
    "TCPChain": "tcp",
    "ECNChain": "ecn",
    "DSCPChain": "dscp",
    "EvilChain": "evilbit",
    "ICMPChain": "icmp",
    "MSSChain": "mss",
    "TFOChain": "tfo",
    "UDPChain": "udp",
    "DNSChain": "dns",
    "TCPOptChain": "tcpopt",
    "NoOpChain": "noop",
}

# A chain class of a plugin may carry this attribute: the Lua chain (a bundled
# name or a .lua file) that pathobs runs in its place.
LUA_ATTRIBUTE = "pathobs_chain"


class ChainMappingError(ValueError):
    """A chain given to the Observer has no Lua counterpart."""


def _class_dir(cls):
    module = sys.modules.get(getattr(cls, "__module__", ""), None)
    path = getattr(module, "__file__", None)
    return os.path.dirname(os.path.abspath(path)) if path else None


def _lua_argument(value, base_dir=None):
    """A chain name or file, as pathobs -c takes it."""
    value = os.fspath(value)
    if not isinstance(value, str) or not value:
        raise ChainMappingError("a Lua chain must be a non-empty name or path, not %r" % (value,))
    is_path = "/" in value or value.endswith(".lua")
    if is_path and not os.path.isabs(value):
        # A relative path from a chain class means: next to the plugin's module,
        # when it is there; else pathobs looks it up as usual (current folder, -L, bundled).
        if base_dir and not os.path.exists(value) and os.path.exists(os.path.join(base_dir, value)):
            return os.path.join(base_dir, value)
    return value


def _is_bundled_class(chain):
    name = chain.__name__
    module = getattr(chain, "__module__", "") or ""
    return name in CHAIN_CLASSES and (module == "pathspider.chains" or
                                      module.startswith("pathspider.chains."))


def chain_arguments(chains):
    """The pathobs -c values for a PATHspider chains list.

    Each element is one of: a PATHspider chain class (mapped to the bundled Lua
    chain with the same fields), a class with a `pathobs_chain` attribute (that
    Lua chain), or a string / path-like naming a Lua chain (bundled name or .lua
    file). An empty list runs the noop chain: records carry only pkt_first and
    pkt_last, as PATHspider's Observer without chains.
    """
    args = []
    for chain in chains if chains is not None else []:
        if isinstance(chain, (str, os.PathLike)):
            args.append(_lua_argument(chain))
        elif isinstance(chain, type):
            # the attribute wins, so that a plugin can replace even a bundled class
            lua = chain.__dict__.get(LUA_ATTRIBUTE)
            if lua is not None:
                args.append(_lua_argument(lua, _class_dir(chain)))
            elif _is_bundled_class(chain):
                args.append(CHAIN_CLASSES[chain.__name__])
            else:
                raise ChainMappingError(
                    "chain class %s.%s has no Lua counterpart in pathobs: port it to a Lua "
                    "chain (see docs/porting.md) and name the Lua file in the plugin's chains "
                    "list, or give the class an attribute %s = 'file.lua' "
                    "(docs/pathspider.md)" % (chain.__module__, chain.__qualname__, LUA_ATTRIBUTE))
        else:
            raise ChainMappingError(
                "%r is not a chain: give PATHspider chain classes or Lua chain names/files "
                "(docs/pathspider.md)" % (chain,))
    return args or ["noop"]
