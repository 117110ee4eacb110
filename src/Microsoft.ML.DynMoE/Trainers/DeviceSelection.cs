using System;
using TorchSharp;

namespace Microsoft.ML.DynMoE;

/// <summary>Maps <see cref="DynMoEDevice"/> to a TorchSharp device.</summary>
internal static class DeviceSelection
{
    public static torch.Device Resolve(DynMoEDevice device, Func<bool>? cudaAvailable = null)
    {
        bool hasCuda = (cudaAvailable ?? torch.cuda.is_available)();
        return device switch
        {
            DynMoEDevice.Cpu => torch.CPU,
            DynMoEDevice.Auto => hasCuda ? torch.CUDA : torch.CPU,
            DynMoEDevice.Cuda when hasCuda => torch.CUDA,
            DynMoEDevice.Cuda => throw new InvalidOperationException(
                "Device is DynMoEDevice.Cuda, but TorchSharp finds no usable CUDA device. Build with the CUDA backend " +
                "(dotnet build -p:DynMoETorchBackend=cuda) on a machine with an NVIDIA GPU and driver, " +
                "or set Device to DynMoEDevice.Auto or DynMoEDevice.Cpu."),
            _ => throw new ArgumentOutOfRangeException(nameof(device), device, "Unknown DynMoEDevice value."),
        };
    }
}
