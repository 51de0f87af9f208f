/* Preemption signals: the handler only sets a flag. */
#include "nncas/core.h"

#include <signal.h>

static volatile sig_atomic_t nn_stop_flag;

static void nn_on_signal(int sig) { nn_stop_flag = sig; }

static void nn_signal_set(sigset_t *set)
{
  sigemptyset(set);
  sigaddset(set, SIGTERM);
  sigaddset(set, SIGINT);
  sigaddset(set, SIGUSR1);
}

void nn_signals_block(void)
{
  sigset_t set;
  nn_signal_set(&set);
  sigprocmask(SIG_BLOCK, &set, NULL); /* held until nn_signals_install; threads started meanwhile inherit the mask */
}

void nn_signals_install(void)
{
  struct sigaction sa = {0};
  sigset_t         set;
  sa.sa_handler = nn_on_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGUSR1, &sa, NULL);
  nn_signal_set(&set);
  sigprocmask(SIG_UNBLOCK, &set, NULL); /* a signal that came during start-up is delivered now */
}

int nn_signal_pending(void) { return nn_stop_flag != 0; }

PetscErrorCode nn_signal_agreed(MPI_Comm comm, PetscBool *stop)
{
  int mine = nn_stop_flag != 0, any;
  PetscFunctionBeginUser;
  PetscCallMPI(MPI_Allreduce(&mine, &any, 1, MPI_INT, MPI_LOR, comm));
  *stop = any ? PETSC_TRUE : PETSC_FALSE;
  PetscFunctionReturn(0);
}
