using System.Collections.Generic;
using Microsoft.ML.DynMoE.Inference;

namespace Microsoft.ML.DynMoE.Training;

/// <summary>What training produces: the compiled network plus what the routing looked like.</summary>
internal sealed class TrainedNetwork
{
    public required CompiledMoEMlp Network { get; init; }
    public required IReadOnlyList<DynMoELayerRouting> Routing { get; init; }
    public required int EpochsRun { get; init; }
    public required double FinalTrainingLoss { get; init; }
}
