/* benchmarks/models/pc-smp.yaml in Promela, action for action (three CPUs, MAX 21).
 * One process whose do-loop offers every action instance as a d_step: each is one
 * transition, and the process is always at the loop head, so SPIN's stored states are
 * exactly the reachable valuations of the variables, as preemptcheck counts them. */
#define MAX 21

byte cnt[3];
bool irqs_off[3];
bool hardirq[3];
bool nr[3];

/* preempt_disable, preempt_enable, local_irq_disable/enable, irq_enter, irq_exit */
#define CPU(i) \
  :: d_step { cnt[i] < MAX -> cnt[i]++ } \
  :: d_step { cnt[i] > 0 -> nr[i] = (nr[i] && !(cnt[i] == 1 && !irqs_off[i] && !hardirq[i])); cnt[i]-- } \
  :: d_step { !irqs_off[i] && !hardirq[i] -> irqs_off[i] = 1 } \
  :: d_step { irqs_off[i] && !hardirq[i] -> irqs_off[i] = 0 } \
  :: d_step { !irqs_off[i] && !hardirq[i] -> hardirq[i] = 1 } \
  :: d_step { hardirq[i] -> nr[i] = (nr[i] && cnt[i] != 0); hardirq[i] = 0 }

/* resched_remote on CPU i for CPU t */
#define RESCHED(i, t) :: d_step { !nr[t] -> nr[t] = 1 }

active proctype cpus()
{
  do
  CPU(0)
  CPU(1)
  CPU(2)
  RESCHED(0, 1)
  RESCHED(0, 2)
  RESCHED(1, 0)
  RESCHED(1, 2)
  RESCHED(2, 0)
  RESCHED(2, 1)
  od
}
