/* benchmarks/models/lost-update.yaml in Promela, action for action (two CPUs).
 * pc[i] packs the count (bits 0-3) and the hardirq depth (bits 4-5) as the model's word;
 * q[i] is the CPU's position in the two-step `bump` (preemptcheck's sequence slot): the
 * CPU's other task-context actions wait for it, its interrupt actions do not. */
byte pc[2];
byte shared;
byte reg[2];
bool pending[2];
byte q[2];

#define COUNT(i)   (pc[i] & 15)
#define HARDIRQ(i) ((pc[i] >> 4) & 3)

#define CPU(i) \
  :: d_step { q[i] == 0 && COUNT(i) < 3 && HARDIRQ(i) == 0 -> pc[i] = (pc[i] + 1) & 255 } \
  :: d_step { q[i] == 0 && COUNT(i) > 0 && HARDIRQ(i) == 0 -> pc[i] = (pc[i] - 1) & 255 } \
  :: d_step { q[i] == 0 && HARDIRQ(i) == 0 -> reg[i] = shared; q[i] = 1 } \
  :: d_step { q[i] == 1 -> shared = (reg[i] + 1) & 15; q[i] = 0 } \
  :: d_step { HARDIRQ(i) == 0 && !pending[i] -> pc[i] = (pc[i] + 16) & 255; pending[i] = 1 } \
  :: d_step { HARDIRQ(i) == 1 -> pc[i] = (pc[i] - 16) & 255; pending[i] = 0 }

active proctype cpus()
{
  do
  CPU(0)
  CPU(1)
  od
}
