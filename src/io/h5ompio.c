/* A workaround for Open MPI 4.1.0-4.1.4 (OMPIO's data sieving), applied
 * before the first MPI file is opened. */
#include "h5impl.h"

#include <stdlib.h>

/* OMPIO's data sieving, new in Open MPI 4.1, returns wrong data for some
 * collective reads of non-contiguous selections (open-mpi/ompi#10546, fixed in
 * 4.1.5): range reads on 3 ranks fail tests/test_h5io without this. Its MCA
 * parameters are read from the environment when the first MPI file is opened,
 * so nn_h5_init() turns it off, unless the user chose the I/O component or the
 * parameter (mpiexec --mca sets OMPI_MCA_*), and the first open checks through
 * MPI_T that this came in time. */
#if defined(OMPI_MAJOR_VERSION) && OMPI_MAJOR_VERSION == 4 && OMPI_MINOR_VERSION == 1 && OMPI_RELEASE_VERSION < 5
#define NN_OMPIO_SIEVING_BUG 1
#endif

static int ompio_sieving_turned_off; /* by us, through the environment */

void h5_ompio_sieving_off(void)
{
#ifdef NN_OMPIO_SIEVING_BUG
  static int done;
  if (done) return;
  done = 1;
  if (getenv("OMPI_MCA_io") || getenv("OMPI_MCA_fbtl_posix_read_datasieving")) return;
  setenv("OMPI_MCA_fbtl_posix_read_datasieving", "0", 1);
  setenv("OMPI_MCA_fbtl_posix_write_datasieving", "0", 0);
  ompio_sieving_turned_off = 1;
#endif
}

/* Whether OMPIO's read data sieving is on (0 when the parameter is unknown). */
static int ompio_read_sieving(void)
{
  int on = 0;
#ifdef NN_OMPIO_SIEVING_BUG
  int               provided, idx, count;
  MPI_T_cvar_handle h;
  if (MPI_T_init_thread(MPI_THREAD_SINGLE, &provided) != MPI_SUCCESS) return 0;
  if (MPI_T_cvar_get_index("fbtl_posix_read_datasieving", &idx) == MPI_SUCCESS &&
      MPI_T_cvar_handle_alloc(idx, NULL, &h, &count) == MPI_SUCCESS) {
    if (MPI_T_cvar_read(h, &on) != MPI_SUCCESS) on = 0;
    MPI_T_cvar_handle_free(&h);
  }
  MPI_T_finalize();
#endif
  return on;
}

/* After the first open: the environment must have been read after
 * h5_ompio_sieving_off(), i.e. no MPI file was opened before nn_h5_init(). */
PetscErrorCode h5_ompio_check(MPI_Comm comm)
{
  static int checked;
  PetscBool  on;
  PetscFunctionBeginUser;
  if (checked || !ompio_sieving_turned_off) PetscFunctionReturn(0);
  checked = 1;
  PetscCall(h5_agree(comm, ompio_read_sieving() ? PETSC_TRUE : PETSC_FALSE, NULL, &on));
  PetscCheck(!on, comm, PETSC_ERR_SUP_SYS,
             "Open MPI 4.1.0-4.1.4 can read wrong data with OMPIO's data sieving (open-mpi/ompi#10546), and an MPI "
             "file was opened before nn_h5_init() could turn it off: call nn_h5_init() first, or set "
             "OMPI_MCA_fbtl_posix_read_datasieving=0 (or OMPI_MCA_io=^ompio)");
  PetscFunctionReturn(0);
}
