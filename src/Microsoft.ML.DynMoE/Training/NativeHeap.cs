using System.Runtime.InteropServices;

namespace Microsoft.ML.DynMoE.Training;

/// <summary>
/// Bounds the native heap that libtorch's tensors come from (Linux, glibc). glibc serves an allocation from its heap
/// unless it is larger than the mmap threshold, and after the first large block is freed it raises that threshold to
/// up to 32 MB, so every step's activations, whose sizes vary with the length-bucketed batches, fragment the heap: a
/// text fit's resident memory grew with the corpus (1.7 GB after one epoch on 6,046 messages, ~200 MB of it live), and
/// periodic <c>malloc_trim</c> did not bring it down. A fixed threshold keeps blocks of at least
/// <see cref="MmapThresholdBytes"/> in their own mappings, returned to the system when freed. Process-wide and set once;
/// a no-op where <c>mallopt</c> does not exist (Windows, macOS, musl) or when <c>MALLOC_MMAP_THRESHOLD_</c> is set.
/// </summary>
internal static partial class NativeHeap
{
    /// <summary>Threshold set: large enough that the many small tensors stay on the heap (1 MB cost ~20 % more CPU time).</summary>
    public const int MmapThresholdBytes = 2 << 20;

    private const int MmapThreshold = -3; // M_MMAP_THRESHOLD in glibc's malloc.h

    private static int _state; // 0 not tried, 1 set, 2 unavailable or left to the environment

    /// <summary>Sets the threshold once per process; returns true when it is (or was already) set by this call's owner.</summary>
    public static bool Bound()
    {
        if (_state != 0)
            return _state == 1;
        if (!OperatingSystem.IsLinux() || Environment.GetEnvironmentVariable("MALLOC_MMAP_THRESHOLD_") is not null)
        {
            _state = 2;
            return false;
        }

        try
        {
            _state = MallOpt(MmapThreshold, MmapThresholdBytes) == 1 ? 1 : 2;
        }
        catch (Exception e) when (e is EntryPointNotFoundException or DllNotFoundException)
        {
            _state = 2;
        }

        return _state == 1;
    }

    [LibraryImport("libc", EntryPoint = "mallopt")]
    private static partial int MallOpt(int parameter, int value);
}
