/*
 * facility_kind_words.c — the words of the facility taxonomy in names (see
 * facility_kind_words.h).
 */
#include "facility_kind_words.h"

#include <string.h>

#define FK(x) RENKEI__V1__FACILITY_KIND__FACILITY_KIND_##x

/* Words of the taxonomy (proto/README.md), most specific first: 陸上競技場 before 競技場,
 * 庭球場 before 球場. */
static const struct {
    const char *word;
    Renkei__V1__FacilityKind kind;
} kind_words[] = {
    {"陸上", FK(ATHLETIC_FIELD)},
    {"フットサル", FK(FUTSAL)},
    {"サッカー", FK(SOCCER_FIELD)},
    {"球技場", FK(SOCCER_FIELD)},
    {"ラグビー", FK(SOCCER_FIELD)},
    {"蹴球", FK(SOCCER_FIELD)},
    {"テニス", FK(TENNIS_COURT)},
    {"庭球", FK(TENNIS_COURT)},
    {"野球", FK(BASEBALL_FIELD)},
    {"ソフトボール", FK(BASEBALL_FIELD)},
    {"球場", FK(BASEBALL_FIELD)},
    {"プール", FK(POOL)},
    {"水泳", FK(POOL)},
    {"卓球", FK(TABLE_TENNIS)},
    {"トレーニング", FK(TRAINING_ROOM)},
    {"弓道", FK(ARCHERY_RANGE)},
    {"弓場", FK(ARCHERY_RANGE)},
    {"アーチェリー", FK(ARCHERY_RANGE)},
    {"武道", FK(MARTIAL_ARTS_HALL)},
    {"柔道", FK(MARTIAL_ARTS_HALL)},
    {"剣道", FK(MARTIAL_ARTS_HALL)},
    {"相撲", FK(MARTIAL_ARTS_HALL)},
    {"ゲートボール", FK(GATEBALL)},
    {"グラウンド・ゴルフ", FK(GATEBALL)},
    {"グランドゴルフ", FK(GATEBALL)},
    {"体育館", FK(GYMNASIUM)},
    {"体育室", FK(GYMNASIUM)},
    {"アリーナ", FK(GYMNASIUM)},
    {"スポーツセンター", FK(GYMNASIUM)},
    {"競技場", FK(ATHLETIC_FIELD)},
    {"運動場", FK(SPORTS_GROUND)},
    {"運動広場", FK(SPORTS_GROUND)},
    {"多目的広場", FK(SPORTS_GROUND)},
    {"グラウンド", FK(SPORTS_GROUND)},
    {"会議室", FK(MEETING_ROOM)},
    {"集会室", FK(MEETING_ROOM)},
    {"研修室", FK(MEETING_ROOM)},
    {"講義室", FK(MEETING_ROOM)},
    {"学習室", FK(MEETING_ROOM)},
    {"音楽", FK(MUSIC_STUDIO)},
    {"練習室", FK(MUSIC_STUDIO)},
    {"防音室", FK(MUSIC_STUDIO)},
    {"多目的室", FK(MULTIPURPOSE_ROOM)},
    {"調理", FK(COOKING_ROOM)},
    {"料理室", FK(COOKING_ROOM)},
    {"和室", FK(JAPANESE_ROOM)},
    {"茶室", FK(JAPANESE_ROOM)},
    {"スタジオ", FK(STUDIO)},
    {"創作室", FK(STUDIO)},
    {"バーベキュー", FK(PARK_BBQ)},
    {"BBQ", FK(PARK_BBQ)},
    {"デイキャンプ", FK(PARK_BBQ)},
    {"キャンプ場", FK(CAMP_SITE)},
    {"ホール", FK(HALL)},
    {"講堂", FK(HALL)},
    {"公会堂", FK(HALL)},
    {"劇場", FK(HALL)},
    {"展示室", FK(EXHIBITION_ROOM)},
    {"ギャラリー", FK(EXHIBITION_ROOM)},
    {"児童室", FK(CHILDREN_ROOM)},
    {"幼児室", FK(CHILDREN_ROOM)},
    {"プレイルーム", FK(CHILDREN_ROOM)},
    {"子育てひろば", FK(CHILDREN_ROOM)},
    /* Buildings whose rooms are let for meetings, last: a room word in the name wins. */
    {"地域センター", FK(MEETING_ROOM)},
    {"市民センター", FK(MEETING_ROOM)},
    {"区民センター", FK(MEETING_ROOM)},
    {"コミュニティセンター", FK(MEETING_ROOM)},
    {"生涯学習センター", FK(MEETING_ROOM)},
    {"公民館", FK(MEETING_ROOM)},
    {"集会所", FK(MEETING_ROOM)},
    {"ふれあい館", FK(MEETING_ROOM)},
    {"文化会館", FK(HALL)},
    {"区民会館", FK(HALL)},
    {"市民会館", FK(HALL)},
};

Renkei__V1__FacilityKind rk_facility_kind_of_name(const char *name_ja)
{
    for (size_t i = 0; i < sizeof(kind_words) / sizeof(kind_words[0]); i++) {
        if (strstr(name_ja, kind_words[i].word))
            return kind_words[i].kind;
    }
    return FK(OTHER);
}
