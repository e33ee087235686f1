#!/bin/sh
# Tell the console (and the kernel log: raw serial writes can be lost while getty starts)
# that the node reached multi-user. bootsmith boot-test waits for this line.
msg="BOOTSMITH-READY host=$(hostname) kernel=$(uname -r) uptime=$(cut -d' ' -f1 /proc/uptime)s"
echo "$msg" > /dev/console 2>/dev/null
echo "$msg" > /dev/kmsg 2>/dev/null
exit 0
