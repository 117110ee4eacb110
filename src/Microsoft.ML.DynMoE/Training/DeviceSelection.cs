using TorchSharp;

namespace Microsoft.ML.DynMoE.Training;

/// <summary>
/// Maps <see cref="DynMoEDevice"/> and the <see cref="MLContext"/> GPU settings to a TorchSharp device, as ML.NET's own
/// TorchSharp trainers do. <see cref="DynMoEDevice.Auto"/> with no <see cref="MLContext.GpuDeviceId"/> trains on the
/// CPU; with one, on that CUDA device, or on the CPU when none is usable and <see cref="MLContext.FallbackToCpu"/> allows it. <see cref="DynMoEDevice.Cpu"/> ignores the context;
/// <see cref="DynMoEDevice.Cuda"/> requires CUDA and takes its index from <see cref="MLContext.GpuDeviceId"/> (default 0).
/// When CUDA is available, a <see cref="MLContext.GpuDeviceId"/> the machine does not have is an error even with
/// <see cref="MLContext.FallbackToCpu"/>: it is a configuration mistake, not a missing GPU.
/// </summary>
internal static class DeviceSelection
{
    /// <summary>Resolves the device from the trainer option and the host's GPU settings.</summary>
    public static torch.Device Resolve(DynMoEDevice device, IHostEnvironment host, Func<int>? cudaDeviceCount = null)
    {
        var settings = host as IHostEnvironmentInternal;
        return Resolve(device, settings?.GpuDeviceId, settings?.FallbackToCpu ?? true, cudaDeviceCount);
    }

    /// <summary>Resolves the device from the trainer option and the context's GPU settings.</summary>
    /// <param name="device">The trainer's <c>Device</c> option.</param>
    /// <param name="gpuDeviceId">The context's <see cref="MLContext.GpuDeviceId"/>.</param>
    /// <param name="fallbackToCpu">The context's <see cref="MLContext.FallbackToCpu"/>.</param>
    /// <param name="cudaDeviceCount">Usable CUDA devices (tests pass their own; by default TorchSharp's count).</param>
    public static torch.Device Resolve(DynMoEDevice device, int? gpuDeviceId, bool fallbackToCpu, Func<int>? cudaDeviceCount = null)
    {
        if (device == DynMoEDevice.Cpu)
            return torch.CPU;
        int count = (cudaDeviceCount ?? (() => torch.cuda.is_available() ? torch.cuda.device_count() : 0))();
        bool hasCuda = count > 0;
        int index = gpuDeviceId ?? 0;
        // A GPU index the machine does not have is a configuration mistake: say so here rather than let libtorch fail later.
        if (hasCuda && (gpuDeviceId is not null || device == DynMoEDevice.Cuda) && (index < 0 || index >= count))
            throw new InvalidOperationException(
                $"MLContext.GpuDeviceId is {index}, but TorchSharp sees {count} CUDA device(s), numbered 0 to {count - 1}. " +
                "Set MLContext.GpuDeviceId to one of them, or leave it null.");
        return device switch
        {
            DynMoEDevice.Auto when gpuDeviceId is null => torch.CPU,
            DynMoEDevice.Auto when hasCuda => new torch.Device(DeviceType.CUDA, index),
            DynMoEDevice.Auto when fallbackToCpu => torch.CPU,
            DynMoEDevice.Auto => throw new InvalidOperationException(
                $"MLContext.GpuDeviceId is {gpuDeviceId} and MLContext.FallbackToCpu is false, but TorchSharp finds no usable CUDA device. " +
                "Build with the CUDA backend (dotnet build -p:DynMoETorchBackend=cuda) on a machine with an NVIDIA GPU and driver, " +
                "set MLContext.FallbackToCpu to true, or set Device to DynMoEDevice.Cpu."),
            DynMoEDevice.Cuda when hasCuda => new torch.Device(DeviceType.CUDA, index),
            DynMoEDevice.Cuda => throw new InvalidOperationException(
                "Device is DynMoEDevice.Cuda, but TorchSharp finds no usable CUDA device. Build with the CUDA backend " +
                "(dotnet build -p:DynMoETorchBackend=cuda) on a machine with an NVIDIA GPU and driver, " +
                "or set Device to DynMoEDevice.Auto or DynMoEDevice.Cpu."),
            _ => throw new ArgumentOutOfRangeException(nameof(device), device, "Unknown DynMoEDevice value."),
        };
    }
}
