"""Native binaries: ELF files loose in the tree, in static archives, wheels and image tarballs.

`elf` reads headers (and, for x86 or odd files, the dynamic section, interpreter and GNU property
notes) through bounded random access; `interface` defines the readers of containers (ar, zip,
tar) that hand ELF members to it without extracting anything to disk.
"""
