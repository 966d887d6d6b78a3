/* bcryptprimitives.dll for Wine 8 (Debian 12), which lacks ProcessPrng: Rust's standard
   library asks it for random bytes at start-up. This forwards to RtlGenRandom
   (advapi32!SystemFunction036). Built by tests/windows/setup.sh and placed next to each .exe;
   never shipped: real Windows 10 and later have ProcessPrng. */
#include <windows.h>

BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);

BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T length)
{
    while (length > 0) {
        ULONG chunk = length > 0x10000000 ? 0x10000000 : (ULONG)length;
        if (!SystemFunction036(data, chunk))
            return FALSE;
        data += chunk;
        length -= chunk;
    }
    return TRUE;
}
