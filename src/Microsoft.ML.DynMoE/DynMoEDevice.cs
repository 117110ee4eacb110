namespace Microsoft.ML.DynMoE;

/// <summary>Where training runs. Scoring always runs on managed arrays on the CPU.</summary>
public enum DynMoEDevice
{
    /// <summary>
    /// Follows <see cref="MLContext.GpuDeviceId"/> and <see cref="MLContext.FallbackToCpu"/> as ML.NET's TorchSharp trainers
    /// do; when the context names no GPU, CUDA when TorchSharp reports a usable one (needs the CUDA backend package), otherwise CPU.
    /// </summary>
    Auto,

    /// <summary>Always the CPU.</summary>
    Cpu,

    /// <summary>The CUDA device <see cref="MLContext.GpuDeviceId"/> names (the first when unset); training fails with a clear error, before reading the data, when none is usable.</summary>
    Cuda,
}
