using System.Collections.Generic;
using Microsoft.ML.DynMoE.Training;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using TorchSharp;

namespace Microsoft.ML.DynMoE.Tests.Training;

/// <summary>
/// How the oneMKL reproducibility switch is chosen and read back. oneMKL's mode is fixed once per process, so these
/// drive the decision with stand-ins for <c>mkl_cbwr_set</c>/<c>mkl_cbwr_get</c>; the real switch is proven by
/// repeated Fits being bit-identical.
/// </summary>
[TestClass]
public sealed class NativeReproducibilityTests
{
    private const int AutoStrict = 0x10002; // MKL_CBWR_AUTO | MKL_CBWR_STRICT, as mkl_cbwr_get reports it

    [TestMethod]
    public void WithoutAUserModeAutoStrictIsSetAndReadBack()
    {
        var calls = new List<string>();
        int result = NativeReproducibility.Decide(null, set => { calls.Add($"set {set:x}"); return 0; }, all => { calls.Add($"get {all:x}"); return AutoStrict; });
        Assert.AreEqual(0, result);
        CollectionAssert.AreEqual(new[] { "set 10002", "get ffffffff" }, calls);
    }

    [TestMethod]
    public void ASwitchOneMklRefusesIsReportedWithItsCode()
    {
        int result = NativeReproducibility.Decide("", _ => NativeReproducibility.ModeChangeFailure, _ => throw new AssertFailedException("not read back after a failed switch"));
        Assert.AreEqual(NativeReproducibility.ModeChangeFailure, result);
    }

    [TestMethod]
    public void AUserModeIsNotOverriddenButAModeWithoutStrictIsReported()
    {
        int Set(int _) => throw new AssertFailedException("the user's MKL_CBWR must be left alone");
        Assert.AreEqual(0, NativeReproducibility.Decide("AUTO,STRICT", Set, _ => AutoStrict));
        // MKL_CBWR=AVX2 (or AUTO) alone: mkl_cbwr_get returns the branch without the STRICT bit.
        Assert.AreEqual(NativeReproducibility.NotStrict, NativeReproducibility.Decide("AVX2", Set, _ => 2));
    }

    [TestMethod]
    public void ACudaFitHasNoOneMklWarning()
    {
        Assert.IsNull(NativeReproducibility.ProblemOn(new torch.Device(DeviceType.CUDA, 0)));
        Assert.AreEqual(NativeReproducibility.Problem, NativeReproducibility.ProblemOn(torch.CPU));
    }
}
