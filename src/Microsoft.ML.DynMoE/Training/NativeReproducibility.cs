using System;
using System.Runtime.InteropServices;

namespace Microsoft.ML.DynMoE.Training;

/// <summary>
/// Makes libtorch's CPU math repeatable run to run. The x64 libtorch builds link Intel oneMKL, whose default code paths
/// may sum in an order that depends on how a buffer happens to be aligned, so two Fits with one seed could differ in the
/// last bit (and more after many epochs). oneMKL's "conditional numerical reproducibility" mode AUTO,STRICT removes that
/// dependence while keeping the CPU's fastest instruction set. A user's own <c>MKL_CBWR</c> setting is left alone, and
/// builds without oneMKL (macOS arm64) need nothing.
/// </summary>
internal static class NativeReproducibility
{
    private const int CbwrAuto = 2;
    private const int CbwrStrict = 0x10000;
    private static readonly Lazy<int?> s_result = new(Enable);

    /// <summary>True when oneMKL's reproducible mode is on (set here or by the user's <c>MKL_CBWR</c>).</summary>
    public static bool Enabled => s_result.Value == 0;

    /// <summary>
    /// Why the mode is off although this libtorch has oneMKL (it can only be chosen before oneMKL's first call, so a
    /// process that ran libtorch math before its first DynMoE Fit keeps the default); null when on or not applicable.
    /// </summary>
    public static string? Problem => s_result.Value is int code && code != 0
        ? $"oneMKL's reproducible mode could not be switched on (code {code}): libtorch computed before the first DynMoE Fit in this process. " +
          "Repeated Fits with one seed may then differ in the last bits; set the environment variable MKL_CBWR=AUTO,STRICT before starting the process to make them identical."
        : null;

    /// <summary>Turns the mode on once per process, before the first training step.</summary>
    public static void Ensure() => _ = s_result.Value;

    // 0: on; another number: oneMKL's refusal; null: no oneMKL in this libtorch.
    private static int? Enable()
    {
        if (!string.IsNullOrEmpty(Environment.GetEnvironmentVariable("MKL_CBWR")))
            return 0;
        try
        {
            return OperatingSystem.IsWindows() ? SetWindows(CbwrAuto | CbwrStrict) : SetUnix(CbwrAuto | CbwrStrict);
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException or BadImageFormatException)
        {
            return null;
        }
    }

    // mkl_cbwr_set is exported under its service name from libtorch's CPU library.
    [DllImport("libtorch_cpu", EntryPoint = "mkl_serv_cbwr_set")]
    private static extern int SetUnix(int settings);

    [DllImport("torch_cpu", EntryPoint = "mkl_serv_cbwr_set")]
    private static extern int SetWindows(int settings);
}
