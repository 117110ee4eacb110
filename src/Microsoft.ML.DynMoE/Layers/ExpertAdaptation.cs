namespace Microsoft.ML.DynMoE.Layers;

/// <summary>What one <see cref="MoELayer.AdaptExperts"/> call changed.</summary>
internal sealed class ExpertAdaptation
{
    /// <summary>Creates a report.</summary>
    /// <param name="removedSlots">Slots deactivated because they received no token in the window.</param>
    /// <param name="addedSlot">Slot activated for the unrouted tokens, if any.</param>
    /// <param name="activeExpertsBefore">Active experts before the update.</param>
    /// <param name="activeExpertsAfter">Active experts after the update.</param>
    public ExpertAdaptation(IReadOnlyList<int> removedSlots, int? addedSlot, int activeExpertsBefore, int activeExpertsAfter)
    {
        RemovedSlots = removedSlots;
        AddedSlot = addedSlot;
        ActiveExpertsBefore = activeExpertsBefore;
        ActiveExpertsAfter = activeExpertsAfter;
    }

    /// <summary>Slots deactivated because they received no token in the recording window (ascending).</summary>
    public IReadOnlyList<int> RemovedSlots { get; }

    /// <summary>The slot activated with the unrouted tokens' mean direction, or null.</summary>
    public int? AddedSlot { get; }

    /// <summary>Active experts before the update.</summary>
    public int ActiveExpertsBefore { get; }

    /// <summary>Active experts after the update.</summary>
    public int ActiveExpertsAfter { get; }

    /// <summary>True when the mask changed or a slot was (re)initialized.</summary>
    public bool Changed => RemovedSlots.Count > 0 || AddedSlot.HasValue;

    /// <summary>A report of no change.</summary>
    internal static ExpertAdaptation Unchanged(int active) => new(System.Array.Empty<int>(), null, active, active);
}
