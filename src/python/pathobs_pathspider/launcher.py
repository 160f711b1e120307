"""Launcher: PATHspider's own command line (measure, observe, filter, test) with pathobs's Observer."""

import logging
import os
import sys

from . import observer as _observer

# Set to 1 to skip PATHspider's look-ups of the public address and AS number of
# the measuring interface (they query stat.ripe.net, and have no time limit).
LOCAL_ONLY_ENV = "PSPDR_PATHOBS_LOCAL_ONLY"


def _tolerant(lookup, fallback, local_only):
    """PATHspider's Spider calls these in its constructor and dies when one
    fails (no network, no public IPv6): fall back, with a warning."""
    def wrapped(ifname):
        if local_only:
            return fallback(ifname)
        try:
            return lookup(ifname)
        except Exception as err:  # pycurl.error, KeyError, ValueError, ...
            logging.getLogger("pspdr-pathobs").warning(
                "%s(%s) failed (%s): using %r", lookup.__name__, ifname, err, fallback(ifname))
            return fallback(ifname)
    wrapped.__name__ = lookup.__name__
    return wrapped


def _up_or_loopback(interface_up):
    """PATHspider's check wants operstate UP; the loopback (and tun devices)
    report UNKNOWN while up and running: accept those when IFF_UP is set."""
    def wrapped(ifname):
        if interface_up(ifname):
            return True
        try:
            with open("/sys/class/net/%s/flags" % ifname) as fh:
                flags = int(fh.read().strip(), 16)
            with open("/sys/class/net/%s/operstate" % ifname) as fh:
                operstate = fh.read().strip()
        except (OSError, ValueError):
            return False
        return bool(flags & 0x1) and operstate == "unknown"
    return wrapped


def install():
    """Put pathobs's Observer in PATHspider's place, before its commands are imported."""
    import pathspider.observer
    import pathspider.base
    import pathspider.network
    pathspider.observer.Observer = _observer.Observer
    pathspider.network.interface_up = _up_or_loopback(pathspider.network.interface_up)

    local_only = os.environ.get(LOCAL_ONLY_ENV, "") not in ("", "0")
    base = pathspider.base
    base.ipv4_address_public = _tolerant(base.ipv4_address_public, base.ipv4_address, local_only)
    base.ipv6_address_public = _tolerant(base.ipv6_address_public, base.ipv6_address, local_only)
    base.ipv4_asn = _tolerant(base.ipv4_asn, lambda ifname: None, local_only)
    base.ipv6_asn = _tolerant(base.ipv6_asn, lambda ifname: None, local_only)


def main(argv=None):
    argv = list(sys.argv if argv is None else argv)
    try:
        install()
    except ImportError as err:
        sys.stderr.write("pspdr-pathobs: PATHspider is not installed (%s): "
                         "apt-get install pathspider\n" % err)
        return 1
    # Debian's /usr/bin/pspdr goes through pkg_resources, which fails on the
    # missing 'scapy-python3' distribution: call PATHspider's handler directly.
    import pathspider.cmd.base
    pathspider.cmd.base.handle_args(["pspdr"] + argv[1:])
    return 0
