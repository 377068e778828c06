#!/bin/bash
# Watchdog for a rare UML 6.1 bug: a lost completion interrupt leaves one write of the VM disk
# (ubda) in flight forever and everything that writes hangs. Any new completion drains the
# backlog, so when the in-flight count stays non-zero and unchanged for 1.5 s, one direct read
# of the disk unfreezes it. A bash loop without forks (read -t on a fifo as the sleep).
# 1.5 s, not more: under client traffic the MASTER's disk froze several times per apply, each
# freeze a whole wait of this watchdog (a transaction step of 12 s at 5 s, two freezes). A kick
# that was not needed (a slow write) costs one read of one block.
# The read is of the disk's LAST block: a direct read first waits for the block device's
# dirty cached pages in its range, and block 0 holds ext4's superblock, which is often the
# very write that is stuck (seen: the kick's own dd hung in D with the disk for minutes;
# a read of the last block unfroze it at once).
fifo=/run/vmlab-ubd-kick.fifo
[ -p $fifo ] || mkfifo $fifo
exec 3<>$fifo
last= same=0
while :; do
  read -r -t 0.5 -u 3 _ || true
  read -r r w </sys/block/ubda/inflight || continue
  now="$r $w"
  if [ "$now" != "0 0" ] && [ "$now" = "$last" ]; then
    same=$((same + 1))
  else
    same=0
  fi
  last=$now
  if [ $same -ge 3 ]; then
    read -r sectors </sys/block/ubda/size || sectors=8
    dd if=/dev/ubda of=/dev/null bs=4096 count=1 skip=$((sectors / 8 - 1)) iflag=direct 2>/dev/null
    echo "vmlab-ubd-kick: in-flight $now for 1.5 s, kicked" >/dev/kmsg
    same=0
  fi
done
