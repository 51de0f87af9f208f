/* Preemption signals: the handler only sets a flag. */
#include "nncas/core.h"

#include <signal.h>

static volatile sig_atomic_t nn_stop_flag;

static void nn_on_signal(int sig) { nn_stop_flag = sig; }

void nn_signals_install(void)
{
  struct sigaction sa = {0};
  sa.sa_handler       = nn_on_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGUSR1, &sa, NULL);
}

int nn_signal_pending(void) { return nn_stop_flag != 0; }
