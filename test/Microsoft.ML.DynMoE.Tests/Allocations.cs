using System;
using System.Linq;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace Microsoft.ML.DynMoE.Tests;

/// <summary>Measures what a call allocates on the calling thread in steady state.</summary>
internal static class Allocations
{
    /// <summary>
    /// Runs <paramref name="call"/> in several windows and returns the bytes each window allocated. The runtime
    /// may allocate once on the caller's thread while it swaps in re-compiled code (timing-dependent), so a
    /// zero-allocation claim allows one window that allocated; an allocation every call, or every few calls, shows in
    /// more than one.
    /// </summary>
    public static long[] PerWindow(Action call, int windows = 5, int callsPerWindow = 3)
    {
        var bytes = new long[windows];
        for (int w = 0; w < windows; w++)
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < callsPerWindow; i++)
                call();
            bytes[w] = GC.GetAllocatedBytesForCurrentThread() - before;
        }
        return bytes;
    }

    public static void AssertSteadyStateAllocatesNothing(Action call)
    {
        call(); // first call: JIT and scratch growth
        var bytes = PerWindow(call);
        Assert.IsLessThanOrEqualTo(1, bytes.Count(b => b > 0), $"bytes allocated per window of calls: {string.Join(", ", bytes)}");
    }
}
