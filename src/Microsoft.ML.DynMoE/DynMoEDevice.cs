namespace Microsoft.ML.DynMoE;

/// <summary>Where training runs. Scoring always runs on managed arrays on the CPU.</summary>
public enum DynMoEDevice
{
    /// <summary>
    /// As ML.NET's TorchSharp trainers choose: the CUDA device <see cref="MLContext.GpuDeviceId"/> names (needs the CUDA
    /// backend package), or the CPU when the context names none; when the named GPU is not usable,
    /// <see cref="MLContext.FallbackToCpu"/> decides between the CPU and an error.
    /// </summary>
    Auto,

    /// <summary>Always the CPU.</summary>
    Cpu,

    /// <summary>The CUDA device <see cref="MLContext.GpuDeviceId"/> names (the first when unset); training fails with a clear error, before reading the data, when none is usable.</summary>
    Cuda,
}
