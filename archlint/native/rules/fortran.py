"""ARCH708: Fortran tied to Intel's x86-only compilers and libraries."""

from __future__ import annotations

from archlint.native.interface import NativeExample as Ex
from archlint.native.interface import NativeRule, Use
from archlint.source.interface import Hit


class IntelFortran(NativeRule):
    code = "ARCH708"
    VALID = (
        Ex(
            "program p\n  use iso_c_binding\n  implicit none\n  call execute_command_line('true')\nend program p\n",
            path="src/p.f90",
        ),
        # An Intel directive is ignored by gfortran: info only.
        Ex(
            "subroutine s(a)\n  real :: a(:)\n!DIR$ ATTRIBUTES VECTOR : PROCESSOR(core_4th_gen_avx) :: s\n"
            "  a = 0\nend subroutine s\n",
            path="src/s.f90",
        ),
    )
    INVALID = (
        Ex("program p\n  use ifport\n  implicit none\n  print *, getpid()\nend program p\n", 2, path="src/p.f90"),
        Ex("subroutine fft(x)\n  use mkl_dfti\n  complex :: x(:)\nend subroutine fft\n", 2, path="src/fft.f90"),
    )

    def render(self, use: Use, path: str) -> Hit:
        if use.detail == "directive":
            return self.hit(
                use,
                f"Intel compiler directive for x86 processors (`{use.what}`): gfortran and flang ignore it on arm64, "
                "so the tuning it asks for does not happen there (harmless otherwise)",
                key=f"directive:{use.what}", severity="info", blocks=False,
            )  # fmt: skip
        mkl = "mkl" in use.what
        alt = (
            "call LAPACK/BLAS or FFTW interfaces instead (OpenBLAS, Arm Performance Libraries)"
            if mkl
            else "use standard Fortran (ISO_C_BINDING, EXECUTE_COMMAND_LINE, GET_ENVIRONMENT_VARIABLE) instead"
        )
        return self.hit(
            use,
            f"`{use.what}`: only Intel's x86-64 Fortran toolchain {'and MKL ' if mkl else ''}provide this "
            f"(gfortran on arm64: Cannot open module file); {alt}",
            key=f"fortran:{use.what}", blocks=True, evidence=f"{use.what} (Intel x86-64 Fortran only)",
        )  # fmt: skip
