/* train_policy — `alsim train-policy`: learns the rl strategy's policy by reinforcement
 * learning on simulated active-learning episodes. A driver of the engine, like run.c.
 *
 * An episode is a Session (sim/engine.h) of the rl strategy with the run's options (the
 * same model, budget rule, reference rows and feature code as `alsim run` with those
 * options) on a random subset of one training dataset's pool: P rows (--pool-size, 0 = all
 * but the reward split) and a disjoint reward split of Q rows (--reward-size) standing in
 * for the test set (never the dataset's test set). Only the picker differs from a run: the
 * batch is drawn from the Plackett–Luce distribution of the policy's scores. The reward of a
 * round is the gain in accuracy on the reward split that its batch brought (default), or the
 * seed formulation: the mean loss of the picked rows under the model that picked them plus
 * α·log π of the batch. REINFORCE with a moving-average baseline per round and an entropy
 * bonus updates the policy by Adam after every episode; the first episode only seeds the
 * baselines. The policy starts as margin (rl.h, policy.h).
 *
 * After every episode a training state file (OUT.state: the policy, Adam moments, baselines,
 * the episode count, a hash of the options) and then the policy file are written atomically,
 * so a killed training continues where it stopped when started again with the same options
 * (from the state, which is never behind the policy file). Everything random derives from
 * (seed, episode, round): training is deterministic under a seed.
 */
#ifndef ALSIM_TRAIN_POLICY_H
#define ALSIM_TRAIN_POLICY_H

/* alsim train-policy --train D1[+D2..] --episodes N --out FILE [options].
 * Returns an exit code (DESIGN.md §5). */
int cmd_train_policy(int argc, char **argv);

#endif
