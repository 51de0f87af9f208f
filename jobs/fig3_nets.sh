# shellcheck shell=bash
# Fig. 3's nets at the size of jobs/reproduce.sh's runs (sourced by it and by
# jobs/bnstep.sh): vgg_small(_nobn) with the dropout of vgg12 after the same
# convolutions and around the hidden dense layer (Sec. 5.2: "the same
# configuration as that in fig. 1 but with BN removed"; inputs/initscale*.opts).
fig3_small=conv:16:3:1,relu,dropout:0.3,conv:16:3:1,relu,pool:2,conv:32:3:1,relu,dropout:0.4,conv:32:3:1,relu,pool:2
fig3_small+=,conv:64:3:1,relu,pool:2,dropout:0.5,dense:64,relu,dropout:0.5,dense:1
fig3_small_bn=conv:16:3:1,bn,relu,dropout:0.3,conv:16:3:1,bn,relu,pool:2,conv:32:3:1,bn,relu,dropout:0.4
fig3_small_bn+=,conv:32:3:1,bn,relu,pool:2,conv:64:3:1,bn,relu,pool:2,dropout:0.5,dense:64,bn,relu,dropout:0.5,dense:1
