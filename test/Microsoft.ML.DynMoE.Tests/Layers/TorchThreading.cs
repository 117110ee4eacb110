using Microsoft.VisualStudio.TestTools.UnitTesting;
using TorchSharp;

namespace Microsoft.ML.DynMoE.Tests.Layers;

[TestClass]
public static class TorchThreading
{
    /// <summary>
    /// One intra-op thread: the test tensors are tiny, and on a shared 2-core CI machine spinning OpenMP workers
    /// made a 1,000-step training test take minutes instead of seconds.
    /// </summary>
    [AssemblyInitialize]
    public static void UseOneThread(TestContext context) => torch.set_num_threads(1);
}
