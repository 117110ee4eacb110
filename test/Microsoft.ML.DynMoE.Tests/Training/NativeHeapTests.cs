using System;
using Microsoft.ML.DynMoE.Training;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace Microsoft.ML.DynMoE.Tests.Training;

[TestClass]
public sealed class NativeHeapTests
{
    [TestMethod]
    public void TheMmapThresholdIsSetOnceOnGlibcAndLeftAloneElsewhere()
    {
        bool expected = OperatingSystem.IsLinux() && Environment.GetEnvironmentVariable("MALLOC_MMAP_THRESHOLD_") is null
            && System.IO.File.Exists("/lib/x86_64-linux-gnu/libc.so.6") | System.IO.File.Exists("/lib/aarch64-linux-gnu/libc.so.6");
        Assert.AreEqual(expected, NativeHeap.Bound(), "glibc has mallopt; elsewhere nothing is set");
        Assert.AreEqual(expected, NativeHeap.Bound(), "a second call reports the same and changes nothing");
    }
}
