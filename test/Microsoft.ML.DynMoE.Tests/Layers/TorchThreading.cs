using Microsoft.VisualStudio.TestTools.UnitTesting;
using TorchSharp;

namespace Microsoft.ML.DynMoE.Tests.Layers;

[TestClass]
public static class TorchThreading
{
    /// <summary>
    /// One intra-op thread: the test tensors are tiny, and on a shared 2-core CI machine spinning OpenMP workers
    /// made a 1,000-step training test take minutes instead of seconds.
    /// The library switches oneMKL's reproducible mode on before its first Fit; tests touch libtorch directly long before
    /// that, so they do it first, as an application would by starting with a Fit.
    /// </summary>
    [AssemblyInitialize]
    public static void UseOneThread(TestContext context)
    {
        Microsoft.ML.DynMoE.Training.NativeReproducibility.Ensure();
        torch.set_num_threads(1);
    }
}
