/* train_policy — `alsim train-policy`: learns the rl strategy's policy by reinforcement
 * learning on simulated active-learning episodes.
 *
 * An episode is a short AL run on a random subset of one training dataset's pool: a pool of
 * P rows and a disjoint reward split of Q rows (both from the dataset's pool, never its test
 * set). Each round the learner is fitted on the labeled rows with the same budget rule as
 * `alsim run`, the policy scores every unlabeled row from its features (strategies/rl.h), and
 * a batch of b is drawn from the Plackett–Luce distribution of those scores. The reward of a
 * round is the gain in accuracy on the reward split that its batch brought (default), or the
 * seed formulation: the mean loss of the picked rows under the model that picked them plus
 * α·log π of the batch. REINFORCE with a moving-average baseline per round and an entropy
 * bonus updates the policy by Adam after every episode. Feature normalisation is fixed from
 * the first episode's features (that episode makes no update).
 *
 * After every episode a training state file (OUT.state: the policy, Adam moments, baselines,
 * the episode count, a hash of the options) and then the policy file are written atomically,
 * so a killed training continues where it stopped when started again with the same options
 * (from the state, which is never behind the policy file). Everything
 * random derives from (seed, episode, round): training is deterministic under a seed.
 */
#ifndef ALSIM_TRAIN_POLICY_H
#define ALSIM_TRAIN_POLICY_H

/* alsim train-policy --train D1[+D2..] --episodes N --rounds R --out FILE [options].
 * Returns an exit code (DESIGN.md §5). */
int cmd_train_policy(int argc, char **argv);

#endif
