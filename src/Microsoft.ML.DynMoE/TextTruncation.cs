namespace Microsoft.ML.DynMoE;

/// <summary>Which tokens of a text longer than <c>MaximumSequenceLength</c> are kept.</summary>
public enum TextTruncation
{
    /// <summary>The first tokens.</summary>
    Head,

    /// <summary>The first half and the last half of the budget (the end of a long document often says what it is about).</summary>
    HeadAndTail,
}
