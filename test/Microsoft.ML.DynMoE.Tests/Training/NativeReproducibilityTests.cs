using System;
using System.Collections.Generic;
using System.Runtime.InteropServices;
using Microsoft.ML.DynMoE.Training;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using TorchSharp;
using static Microsoft.ML.DynMoE.Training.NativeReproducibility;

namespace Microsoft.ML.DynMoE.Tests.Training;

/// <summary>
/// How the oneMKL reproducibility switch is chosen, read back and reported. oneMKL's mode is fixed once per process, so
/// these drive the decision with stand-ins for <c>mkl_cbwr_set</c>/<c>mkl_cbwr_get</c> that return what the Linux x64
/// libtorch returned when probed (OFF = 1 with no <c>MKL_CBWR</c>; 0x10002 for AUTO,STRICT; 2 for AUTO, AVX2 or
/// "auto,strict"); the real switch is proven by repeated Fits being bit-identical.
/// </summary>
[TestClass]
public sealed class NativeReproducibilityTests
{
    private const int Off = 1, Auto = 2, AutoStrict = 0x10002;

    private static int NoExport(int _) => throw new EntryPointNotFoundException("mkl_serv_cbwr_get");

    [TestMethod]
    public void WithNothingChosenAutoStrictIsSetAndReadBack()
    {
        var calls = new List<string>();
        int mode = Off;
        var outcome = Decide(null, set => { calls.Add($"set {set:x}"); mode = set; return 0; }, all => { calls.Add($"get {all:x}"); return mode; }, x64: true);
        Assert.AreEqual(new Outcome(State.Strict, Mode: AutoStrict), outcome);
        CollectionAssert.AreEqual(new[] { "get ffffffff", "set 10002", "get ffffffff" }, calls);
        Assert.IsNull(Describe(outcome));
    }

    [TestMethod]
    public void AValueSetFromDotNetThatOneMklNeverSawIsSwitchedLikeNoValue()
    {
        int mode = Off;
        var outcome = Decide("AUTO,STRICT", set => { mode = set; return 0; }, _ => mode, x64: true);
        Assert.AreEqual(State.Strict, outcome.State);
        Assert.AreEqual(AutoStrict, mode);
    }

    [TestMethod]
    public void ARefusedSwitchIsReportedWithTheFix()
    {
        var outcome = Decide("", _ => ModeChangeFailure, _ => Off, x64: true);
        Assert.AreEqual(new Outcome(State.Refused, ModeChangeFailure, Off, ""), outcome);
        Assert.AreEqual(
            "oneMKL's reproducible mode could not be switched on because libtorch computed before the first DynMoE Fit in this process, " +
            "so repeated Fits with one seed may differ in the last bits. Set the environment variable MKL_CBWR=AUTO,STRICT (upper case) before starting the process to make them identical.",
            Describe(outcome));
        StringAssert.StartsWith(Describe(Decide(null, _ => -3, _ => Off, x64: true)), "oneMKL refused its reproducible mode (code -3; oneMKL reports mode 0x1)");
    }

    [TestMethod]
    public void AUserModeIsNeverOverriddenAndWithoutStrictIsReported()
    {
        int Set(int _) => throw new AssertFailedException("the user's MKL_CBWR must be left alone");
        Assert.AreEqual(State.Strict, Decide("AUTO,STRICT", Set, _ => AutoStrict, x64: true).State);
        var lowerCase = Decide("auto,strict", Set, _ => Auto, x64: true);
        Assert.AreEqual(new Outcome(State.UserModeNotStrict, Mode: Auto, UserMode: "auto,strict"), lowerCase);
        Assert.AreEqual(
            "MKL_CBWR is 'auto,strict' and oneMKL reports mode 0x2, without its STRICT flag, so repeated Fits with one seed may differ in the last bits " +
            "when buffers are aligned differently. Set the environment variable MKL_CBWR=AUTO,STRICT (upper case) before starting the process to make them identical.",
            Describe(lowerCase));
    }

    [TestMethod]
    public void WithoutTheExportOnlyTheTextOfMklCbwrCanBeChecked()
    {
        // Windows x64: libtorch has oneMKL but exports no switch.
        Assert.AreEqual(State.NoSwitch, Decide(null, NoExport, NoExport, x64: true).State);
        StringAssert.StartsWith(Describe(Decide(null, NoExport, NoExport, x64: true)), "this libtorch build does not export");
        Assert.AreEqual(State.Strict, Decide("AUTO,STRICT", NoExport, NoExport, x64: true).State);
        var auto = Decide("AUTO", NoExport, NoExport, x64: true);
        Assert.AreEqual(State.UserModeNotStrict, auto.State);
        StringAssert.StartsWith(Describe(auto), "MKL_CBWR is 'AUTO' and this libtorch cannot report oneMKL's mode, without its STRICT flag");
        // arm64 builds have no oneMKL at all.
        Assert.AreEqual(State.NotApplicable, Decide(null, NoExport, _ => throw new DllNotFoundException(), x64: false).State);
        Assert.IsNull(Describe(new Outcome(State.NotApplicable)));
    }

    [TestMethod]
    public void ACudaFitGetsNoOneMklHint()
    {
        Assert.IsNull(EnsureFor(new torch.Device(DeviceType.CUDA, 0)));
        // This process (Linux x64 in CI, no MKL_CBWR) has the mode on, so the CPU has nothing to say either.
        if (OperatingSystem.IsLinux() && RuntimeInformation.ProcessArchitecture == Architecture.X64
            && string.IsNullOrEmpty(Environment.GetEnvironmentVariable("MKL_CBWR")))
        {
            Assert.IsTrue(Enabled, Problem);
            Assert.IsNull(EnsureFor(torch.CPU));
        }
    }
}
