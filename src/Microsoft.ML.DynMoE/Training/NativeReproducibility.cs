using System.Runtime.InteropServices;
using TorchSharp;

namespace Microsoft.ML.DynMoE.Training;

/// <summary>
/// Makes libtorch's CPU math repeatable run to run. The x64 libtorch builds link Intel oneMKL, whose default code paths
/// may sum in an order that depends on how a buffer happens to be aligned, so two Fits with one seed could differ in the
/// last bit (and more after many epochs). oneMKL's "conditional numerical reproducibility" mode AUTO,STRICT removes that
/// dependence while keeping the CPU's fastest instruction set. The Linux x64 libtorch exports the switch: the mode oneMKL
/// reports is read, AUTO,STRICT is set when nothing was chosen, and a mode the user chose through <c>MKL_CBWR</c> is left
/// alone but logged when it lacks STRICT. The Windows x64 libtorch exports nothing, so there the trainers only look for
/// STRICT in <c>MKL_CBWR</c> and log how to set it. Builds without oneMKL (arm64) need nothing.
/// </summary>
internal static class NativeReproducibility
{
    // oneMKL's MKL_CBWR_ALL (query everything), MKL_CBWR_OFF (nothing chosen), MKL_CBWR_AUTO and MKL_CBWR_STRICT.
    private const int CbwrAll = ~0;
    private const int CbwrOff = 1;
    private const int CbwrAuto = 2;
    private const int CbwrStrict = 0x10000;

    // oneMKL's MKL_CBWR_ERR_MODE_CHANGE_FAILURE: the mode can only be chosen before oneMKL's first computation.
    internal const int ModeChangeFailure = -8;

    /// <summary>What <see cref="Decide"/> found.</summary>
    internal enum State
    {
        /// <summary>STRICT is on (set here or by the user).</summary>
        Strict,
        /// <summary>This libtorch has no oneMKL (arm64): nothing to do.</summary>
        NotApplicable,
        /// <summary>x64 libtorch without the exported switch and no STRICT in <c>MKL_CBWR</c>.</summary>
        NoSwitch,
        /// <summary>The user's <c>MKL_CBWR</c> chose a mode without STRICT.</summary>
        UserModeNotStrict,
        /// <summary>oneMKL refused the switch (<see cref="Outcome.Code"/>), e.g. because it had already computed.</summary>
        Refused,
    }

    /// <summary>
    /// The decision, oneMKL's code when it refused, the mode it reports (-1 when it cannot be read) and the user's
    /// <c>MKL_CBWR</c> the decision saw.
    /// </summary>
    internal readonly record struct Outcome(State State, int Code = 0, int Mode = -1, string? UserMode = null);

    private static readonly Lazy<Outcome> s_outcome = new(() => Decide(
        Environment.GetEnvironmentVariable("MKL_CBWR"),
        OperatingSystem.IsWindows() ? SetWindows : SetUnix,
        OperatingSystem.IsWindows() ? GetWindows : GetUnix,
        RuntimeInformation.ProcessArchitecture == Architecture.X64));

    /// <summary>True when oneMKL's strict reproducible mode is on (set here, or chosen by the user's own <c>MKL_CBWR</c>).</summary>
    public static bool Enabled => s_outcome.Value.State == State.Strict;

    /// <summary>Why the mode is off although this libtorch computes with oneMKL (x64); null when it is on or not applicable.</summary>
    public static string? Problem => Describe(s_outcome.Value);

    /// <summary>Turns the mode on once per process, before the first training step.</summary>
    public static void Ensure() => _ = s_outcome.Value;

    /// <summary>
    /// <see cref="Ensure"/>, then what a Fit on <paramref name="device"/> should log: <see cref="Problem"/> on the CPU,
    /// nothing on CUDA, where training is not bit-reproducible whatever oneMKL does (cuBLAS and atomics choose their own
    /// summation order), so the hint would only mislead.
    /// </summary>
    public static string? EnsureFor(torch.Device device)
    {
        Ensure();
        return device.type == DeviceType.CPU ? Problem : null;
    }

    /// <summary>
    /// Reads the mode oneMKL reports through <paramref name="get"/>; when nothing was chosen, sets AUTO,STRICT through
    /// <paramref name="set"/> and reads it back. A mode the user chose in <paramref name="userMode"/> (oneMKL reads
    /// <c>MKL_CBWR</c> itself) is never overridden. Without the exports, only the text of <c>MKL_CBWR</c> can be checked.
    /// </summary>
    internal static Outcome Decide(string? userMode, Func<int, int> set, Func<int, int> get, bool x64)
    {
        try
        {
            int mode = get(CbwrAll);
            if ((mode & CbwrStrict) != 0)
                return new(State.Strict, Mode: mode, UserMode: userMode);
            // A mode other than OFF came from the user's MKL_CBWR (a value set from .NET after start-up never reaches
            // oneMKL on Linux, and oneMKL then reports OFF, so that case is switched here like no value at all).
            if (mode != CbwrOff && !string.IsNullOrEmpty(userMode))
                return new(State.UserModeNotStrict, Mode: mode, UserMode: userMode);
            int code = set(CbwrAuto | CbwrStrict);
            if (code != 0)
                return new(State.Refused, code, mode, userMode);
            mode = get(CbwrAll);
            return (mode & CbwrStrict) != 0 ? new(State.Strict, Mode: mode, UserMode: userMode) : new(State.Refused, 0, mode, userMode);
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException or BadImageFormatException)
        {
            if (!x64)
                return new(State.NotApplicable);
            // oneMKL matches the upper-case token only: "auto,strict" reads back as plain AUTO on Linux.
            if (userMode is not null && userMode.Contains("STRICT", StringComparison.Ordinal))
                return new(State.Strict, UserMode: userMode);
            return string.IsNullOrEmpty(userMode) ? new(State.NoSwitch) : new(State.UserModeNotStrict, UserMode: userMode);
        }
    }

    /// <summary>The log line for <paramref name="outcome"/>; null when there is nothing to say.</summary>
    internal static string? Describe(Outcome outcome)
    {
        const string Fix = "Set the environment variable MKL_CBWR=AUTO,STRICT (upper case) before starting the process to make them identical.";
        string reported = outcome.Mode >= 0 ? $"oneMKL reports mode 0x{outcome.Mode:x}" : "this libtorch cannot report oneMKL's mode";
        return outcome.State switch
        {
            State.Strict or State.NotApplicable => null,
            State.NoSwitch => "this libtorch build does not export oneMKL's reproducibility switch (Windows builds do not), so repeated Fits " +
                              "with one seed may differ in the last bits. " + Fix,
            State.UserModeNotStrict => $"MKL_CBWR is '{outcome.UserMode}' and {reported}, without its STRICT flag, so repeated Fits with one seed may " +
                                       "differ in the last bits when buffers are aligned differently. " + Fix,
            State.Refused when outcome.Code == ModeChangeFailure =>
                "oneMKL's reproducible mode could not be switched on because libtorch computed before the first DynMoE Fit in this process, " +
                "so repeated Fits with one seed may differ in the last bits. " + Fix,
            State.Refused => $"oneMKL refused its reproducible mode (code {outcome.Code}; {reported}), so repeated Fits with one seed may differ " +
                             "in the last bits. " + Fix,
            _ => throw new ArgumentOutOfRangeException(nameof(outcome)),
        };
    }

    // mkl_cbwr_set/get are exported under their service names from libtorch's CPU library.
    [DllImport("libtorch_cpu", EntryPoint = "mkl_serv_cbwr_set")]
    private static extern int SetUnix(int settings);

    [DllImport("torch_cpu", EntryPoint = "mkl_serv_cbwr_set")]
    private static extern int SetWindows(int settings);

    [DllImport("libtorch_cpu", EntryPoint = "mkl_serv_cbwr_get")]
    private static extern int GetUnix(int option);

    [DllImport("torch_cpu", EntryPoint = "mkl_serv_cbwr_get")]
    private static extern int GetWindows(int option);
}
