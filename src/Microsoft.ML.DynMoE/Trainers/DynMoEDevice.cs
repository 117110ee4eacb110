namespace Microsoft.ML.DynMoE;

/// <summary>Where training runs. Scoring always runs on managed arrays on the CPU.</summary>
public enum DynMoEDevice
{
    /// <summary>CUDA when TorchSharp reports a usable GPU (needs the CUDA backend package), otherwise CPU.</summary>
    Auto,

    /// <summary>Always the CPU.</summary>
    Cpu,

    /// <summary>The first CUDA device; training fails with a clear error when none is usable.</summary>
    Cuda,
}
