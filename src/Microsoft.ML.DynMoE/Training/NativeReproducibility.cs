using System;
using System.Runtime.InteropServices;
using TorchSharp;

namespace Microsoft.ML.DynMoE.Training;

/// <summary>
/// Makes libtorch's CPU math repeatable run to run. The x64 libtorch builds link Intel oneMKL, whose default code paths
/// may sum in an order that depends on how a buffer happens to be aligned, so two Fits with one seed could differ in the
/// last bit (and more after many epochs). oneMKL's "conditional numerical reproducibility" mode AUTO,STRICT removes that
/// dependence while keeping the CPU's fastest instruction set. The switch is exported by the Linux x64 libtorch; on
/// Windows x64 the trainers log how to set it through the environment instead. A user's own <c>MKL_CBWR</c> is left
/// alone but read back: without STRICT, results still depend on alignment, so that is logged too. Builds without oneMKL
/// (arm64) need nothing.
/// </summary>
internal static class NativeReproducibility
{
    private const int CbwrAuto = 2;
    private const int CbwrStrict = 0x10000;
    private static readonly Lazy<int?> s_result = new(Enable);

    /// <summary>True when oneMKL's strict reproducible mode is on (set here, or chosen by the user's own <c>MKL_CBWR</c>).</summary>
    public static bool Enabled => s_result.Value == 0;

    /// <summary>
    /// Why the mode is off although this libtorch computes with oneMKL (x64); null when it is on or not applicable.
    /// </summary>
    public static string? Problem => s_result.Value switch
    {
        null or 0 => null,
        NoSwitch => "this libtorch build does not export oneMKL's reproducibility switch (Windows builds do not), so repeated Fits with one seed " +
                    "may differ in the last bits. Set the environment variable MKL_CBWR=AUTO,STRICT before starting the process to make them identical.",
        ModeChangeFailure => "oneMKL's reproducible mode could not be switched on because libtorch computed before the first DynMoE Fit in this process, " +
                             "so repeated Fits with one seed may differ in the last bits. Set the environment variable MKL_CBWR=AUTO,STRICT before starting the process to make them identical.",
        NotStrict => $"MKL_CBWR is '{Environment.GetEnvironmentVariable("MKL_CBWR")}', which leaves oneMKL's STRICT flag off, so repeated Fits with one seed " +
                     "may differ in the last bits when buffers are aligned differently. Set MKL_CBWR=AUTO,STRICT (or add ',STRICT' to the branch you chose).",
        int code => $"oneMKL refused its reproducible mode (code {code}), so repeated Fits with one seed may differ in the last bits. Set MKL_CBWR=AUTO,STRICT before starting the process.",
    };

    /// <summary>
    /// <see cref="Problem"/> for a Fit on <paramref name="device"/>: oneMKL computes only on the CPU, so a CUDA Fit has
    /// nothing to warn about.
    /// </summary>
    public static string? ProblemOn(torch.Device device) => device.type == DeviceType.CPU ? Problem : null;

    /// <summary>Turns the mode on once per process, before the first training step.</summary>
    public static void Ensure() => _ = s_result.Value;

    // oneMKL's MKL_CBWR_ERR_MODE_CHANGE_FAILURE: the mode can only be chosen before oneMKL's first call.
    internal const int ModeChangeFailure = -8;

    // Our own code: x64 libtorch (which has oneMKL) without the exported switch.
    private const int NoSwitch = int.MinValue;

    // Our own code: the user's MKL_CBWR chose a branch without STRICT.
    internal const int NotStrict = int.MinValue + 1;

    // mkl_cbwr_get's MKL_CBWR_ALL: the branch and the STRICT flag together.
    private const int CbwrAll = ~0;

    // 0: on; a negative number: why not; null: no oneMKL in this libtorch (arm64).
    private static int? Enable()
    {
        try
        {
            return OperatingSystem.IsWindows()
                ? Decide(Environment.GetEnvironmentVariable("MKL_CBWR"), SetWindows, GetWindows)
                : Decide(Environment.GetEnvironmentVariable("MKL_CBWR"), SetUnix, GetUnix);
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException or BadImageFormatException)
        {
            // The user's own MKL_CBWR cannot be read back without the export (Windows): trust it.
            if (!string.IsNullOrEmpty(Environment.GetEnvironmentVariable("MKL_CBWR")))
                return 0;
            return RuntimeInformation.ProcessArchitecture == Architecture.X64 ? NoSwitch : null;
        }
    }

    /// <summary>
    /// Switches AUTO,STRICT on through <paramref name="set"/> unless the user chose a mode in <paramref name="userMode"/>
    /// (oneMKL reads <c>MKL_CBWR</c> itself; an unknown value falls back to AUTO), then reads the mode back: 0 when STRICT
    /// is on, oneMKL's error code when the switch failed, <see cref="NotStrict"/> when the user's mode lacks STRICT.
    /// </summary>
    internal static int Decide(string? userMode, Func<int, int> set, Func<int, int> get)
    {
        if (string.IsNullOrEmpty(userMode))
        {
            int code = set(CbwrAuto | CbwrStrict);
            if (code != 0)
                return code;
        }
        return (get(CbwrAll) & CbwrStrict) != 0 ? 0 : NotStrict;
    }

    // mkl_cbwr_set is exported under its service name from libtorch's CPU library.
    [DllImport("libtorch_cpu", EntryPoint = "mkl_serv_cbwr_set")]
    private static extern int SetUnix(int settings);

    [DllImport("torch_cpu", EntryPoint = "mkl_serv_cbwr_set")]
    private static extern int SetWindows(int settings);

    [DllImport("libtorch_cpu", EntryPoint = "mkl_serv_cbwr_get")]
    private static extern int GetUnix(int option);

    [DllImport("torch_cpu", EntryPoint = "mkl_serv_cbwr_get")]
    private static extern int GetWindows(int option);
}
