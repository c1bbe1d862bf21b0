"""The parts of mpi4py.MPI that flee.pflee calls, for a single rank (rank 0 of 1)."""

import numpy as np

SUM, INT, DOUBLE = "sum", "i", "d"


def Is_initialized() -> bool:
    return True


def Init() -> None:
    pass


def _buf(x):
    """An mpi4py buffer argument: the array itself or [array, type]."""
    return x[0] if isinstance(x, (list, tuple)) else x


class _Comm:
    def Get_rank(self) -> int:
        return 0

    def Get_size(self) -> int:
        return 1

    def Allreduce(self, send, recv, op=SUM) -> None:
        _buf(recv)[...] = np.asarray(_buf(send))

    def Allgatherv(self, send, recv) -> None:
        buf, sizes, offsets = recv[0], recv[1], recv[2]
        buf[offsets[0]:offsets[0] + sizes[0]] = send

    def Barrier(self) -> None:
        pass


COMM_WORLD = _Comm()
