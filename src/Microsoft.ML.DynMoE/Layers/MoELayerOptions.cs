using System;

namespace Microsoft.ML.DynMoE.Layers;

/// <summary>Shape and routing settings of one <see cref="MoELayer"/>.</summary>
internal sealed class MoELayerOptions
{
    /// <summary>Largest slot count accepted by <see cref="Validate"/>; far above any useful MoE layer, it only catches typos.</summary>
    public const int MaximumSlotLimit = 4096;

    /// <summary>Width <c>d</c> of the tokens entering and leaving the layer. Default 64.</summary>
    public int ModelDimension { get; set; } = 64;

    /// <summary>Hidden width <c>h</c> of every expert feed-forward network. Default 128.</summary>
    public int ExpertHiddenDimension { get; set; } = 128;

    /// <summary>Routing strategy. Default <see cref="GatingKind.TopAny"/> (DynMoE).</summary>
    public GatingKind Gating { get; set; } = GatingKind.TopAny;

    /// <summary>Experts per token for <see cref="GatingKind.TopK"/>; ignored by the other gatings. Default 2.</summary>
    public int TopK { get; set; } = 2;

    /// <summary>Number of slots active at initialization (the first slots). Ignored by <see cref="GatingKind.Dense"/>. Default 4.</summary>
    public int InitialExperts { get; set; } = 4;

    /// <summary>Number of expert slots <c>E_max</c> allocated up front; top-any adaptation never activates more. Ignored by <see cref="GatingKind.Dense"/> (one expert). Default 8.</summary>
    public int MaximumExperts { get; set; } = 8;

    /// <summary>Expert nonlinearity. Default <see cref="ExpertActivation.Gelu"/> (exact erf GELU).</summary>
    public ExpertActivation Activation { get; set; } = ExpertActivation.Gelu;

    /// <summary>Top-any only: initial threshold logit θ of every slot and of a slot activated by adaptation; the threshold is
    /// <c>sigmoid(θ)</c> on <c>sigmoid(cosine)</c>, so 0 activates an expert when the cosine is positive. Default 0.</summary>
    public float ThresholdInitialization { get; set; }

    /// <summary>Top-any only: the feed-forward weights of a slot that adaptation activates. Default <see cref="NewExpertInitialization.Random"/>.</summary>
    public NewExpertInitialization NewExpertInitialization { get; set; } = NewExpertInitialization.Random;

    /// <summary>Auxiliary loss reported by the layer. Default <see cref="AuxiliaryLossKind.Default"/> (chosen by <see cref="Gating"/>).</summary>
    public AuxiliaryLossKind AuxiliaryLoss { get; set; } = AuxiliaryLossKind.Default;

    /// <summary>The auxiliary loss actually used once <see cref="AuxiliaryLossKind.Default"/> is resolved for <see cref="Gating"/>.</summary>
    public AuxiliaryLossKind ResolvedAuxiliaryLoss => AuxiliaryLoss != AuxiliaryLossKind.Default
        ? AuxiliaryLoss
        : Gating switch
        {
            GatingKind.TopAny => AuxiliaryLossKind.DiverseAndSimple,
            GatingKind.TopK => AuxiliaryLossKind.SwitchLoadBalancing,
            _ => AuxiliaryLossKind.None,
        };

    /// <summary>Number of expert slots the layer allocates: <see cref="MaximumExperts"/>, or 1 for <see cref="GatingKind.Dense"/>.</summary>
    public int SlotCount => Gating == GatingKind.Dense ? 1 : MaximumExperts;

    /// <summary>Checks every setting.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A setting is out of range; <see cref="ArgumentException.ParamName"/> is the property name and the message states the valid range.</exception>
    public void Validate()
    {
        RequireAtLeastOne(ModelDimension, nameof(ModelDimension));
        RequireAtLeastOne(ExpertHiddenDimension, nameof(ExpertHiddenDimension));
        if (!Enum.IsDefined(Gating))
        {
            throw new ArgumentOutOfRangeException(nameof(Gating), Gating, "Gating must be TopAny, TopK or Dense.");
        }

        if (!Enum.IsDefined(Activation))
        {
            throw new ArgumentOutOfRangeException(nameof(Activation), Activation, "Activation must be Gelu, Relu or Silu.");
        }

        if (!float.IsFinite(ThresholdInitialization))
        {
            throw new ArgumentOutOfRangeException(nameof(ThresholdInitialization), ThresholdInitialization, "ThresholdInitialization must be a finite number.");
        }

        if (!Enum.IsDefined(NewExpertInitialization))
        {
            throw new ArgumentOutOfRangeException(nameof(NewExpertInitialization), NewExpertInitialization, "NewExpertInitialization must be Random, CopyMostLoaded or MeanOfActive.");
        }

        if (Gating == GatingKind.Dense)
        {
            ValidateAuxiliaryLoss(AuxiliaryLossKind.None);
            return;
        }

        if (MaximumExperts < 1 || MaximumExperts > MaximumSlotLimit)
        {
            throw new ArgumentOutOfRangeException(nameof(MaximumExperts), MaximumExperts,
                $"MaximumExperts must be between 1 and {MaximumSlotLimit}.");
        }

        if (InitialExperts < 1 || InitialExperts > MaximumExperts)
        {
            throw new ArgumentOutOfRangeException(nameof(InitialExperts), InitialExperts,
                $"InitialExperts must be between 1 and MaximumExperts ({MaximumExperts}).");
        }

        if (Gating == GatingKind.TopK)
        {
            if (TopK < 1 || TopK > InitialExperts)
            {
                throw new ArgumentOutOfRangeException(nameof(TopK), TopK,
                    $"TopK must be between 1 and InitialExperts ({InitialExperts}).");
            }

            ValidateAuxiliaryLoss(AuxiliaryLossKind.SwitchLoadBalancing, AuxiliaryLossKind.None);
        }
        else
        {
            ValidateAuxiliaryLoss(AuxiliaryLossKind.DiverseAndSimple, AuxiliaryLossKind.DiverseSimpleBalanceEfficiency, AuxiliaryLossKind.None);
        }
    }

    /// <summary>Returns an independent copy of these options.</summary>
    public MoELayerOptions Clone() => (MoELayerOptions)MemberwiseClone();

    private void ValidateAuxiliaryLoss(params AuxiliaryLossKind[] allowed)
    {
        if (AuxiliaryLoss == AuxiliaryLossKind.Default || Array.IndexOf(allowed, AuxiliaryLoss) >= 0)
        {
            return;
        }

        throw new ArgumentOutOfRangeException(nameof(AuxiliaryLoss), AuxiliaryLoss,
            $"AuxiliaryLoss for {Gating} gating must be Default or one of: {string.Join(", ", allowed)}.");
    }

    private static void RequireAtLeastOne(int value, string name)
    {
        if (value < 1)
        {
            throw new ArgumentOutOfRangeException(name, value, $"{name} must be at least 1.");
        }
    }
}
